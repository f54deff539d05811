/*
 * event: signal-safe helpers for poll(2) loops.  Signal handlers only write
 * the signal number to a self-pipe; the loop polls the pipe's read end.
 */
#ifndef POSTERN_EVENT_H
#define POSTERN_EVENT_H
#include <signal.h>

/* Create the self-pipe (once); returns its read end (non-blocking, cloexec). */
int event_signal_fd(void);
/* Route signo through the self-pipe (SA_RESTART off so poll returns). */
void event_signal_catch(int signo);
/* Restore default handling of signo. */
void event_signal_default(int signo);
/* Next pending signal number, or 0 when none is pending. */
int event_signal_next(void);
/* Close the pipe in a child after fork and restore default dispositions of
 * the caught signals. */
void event_signal_reset_child(void);
#endif
