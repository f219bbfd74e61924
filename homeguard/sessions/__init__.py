"""Application sessions: per-connection readers of the reassembled TCP streams (and a
few UDP protocols) that turn logins, handshakes and requests into events."""
