"""The fleet: how players join (pairing codes, enrolment tokens), their device tokens,
heartbeats and online state, commands and screenshots."""
