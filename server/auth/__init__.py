"""Who is asking and what they may do: actors, route policies, organisation scope, the
audit log, sessions."""
