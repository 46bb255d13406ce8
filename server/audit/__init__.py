"""The audit log's console page. The log itself (recording, `audit_select`) belongs to
`server.auth`; the page lives apart because a console page imports the console frame
(`server.web`), which imports `server.auth`."""
