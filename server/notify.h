/* The service manager's readiness protocol (sd_notify(3)), written here rather than linked
 * from libsystemd: one datagram of "KEY=VALUE\n" lines to the Unix socket named by
 * $NOTIFY_SOCKET (a path, or an abstract name written with a leading '@'). Unset: nothing is
 * sent, so jotd runs the same outside systemd. jotd sends READY=1 once it listens,
 * RELOADING=1 (with MONOTONIC_USEC) then READY=1 around a SIGHUP reload, and STOPPING=1 when
 * SIGTERM or SIGINT begins the shutdown. */
#ifndef JOTD_NOTIFY_H
#define JOTD_NOTIFY_H

/** Send \p state (e.g. "READY=1") to $NOTIFY_SOCKET. 1 sent, 0 no socket configured, -1 the
 *  send failed (errno set; the caller logs it: the service manager may then time out). */
int jotd_notify(const char *state);

#endif
