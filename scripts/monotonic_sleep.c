/*
 * A companion to Debian's libfaketime for `make test-anytime` (scripts/test-anytime).
 *
 * With FAKETIME_DONT_FAKE_MONOTONIC=1 (the monotonic clock stays real, so timeouts and
 * lock waits keep working), libfaketime 0.9.10 still shifts the deadline of an absolute
 * clock_nanosleep on the monotonic clock by the fake offset, and the kernel answers EINVAL:
 * Python's time.sleep() fails with "OSError: [Errno 22] Invalid argument". Loaded before
 * libfaketime, this sends sleeps on the clocks libfaketime leaves alone straight to the
 * kernel, and every other clock_nanosleep on to libfaketime.
 *
 * The same holds for pthread_cond_timedwait on a condition variable that runs on the monotonic
 * clock (CPython's GIL and its lock waits): libfaketime moved the deadline, so a thread waiting
 * for the GIL spun instead of sleeping, and every hand-off between two threads (the event loop
 * and aiosqlite's database thread) cost milliseconds. Those waits go to glibc's
 * pthread_cond_clockwait, which libfaketime leaves alone.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

typedef int (*clock_nanosleep_fn)(clockid_t, int, const struct timespec *, struct timespec *);

int clock_nanosleep(clockid_t clock_id, int flags, const struct timespec *request,
                    struct timespec *remain)
{
    if (clock_id == CLOCK_MONOTONIC || clock_id == CLOCK_MONOTONIC_RAW ||
        clock_id == CLOCK_BOOTTIME) {
        long result = syscall(SYS_clock_nanosleep, clock_id, flags, request, remain);
        return result == -1 ? errno : 0; /* clock_nanosleep returns the error number */
    }
    static clock_nanosleep_fn next;
    if (next == NULL) {
        next = (clock_nanosleep_fn)dlsym(RTLD_NEXT, "clock_nanosleep");
        if (next == NULL) {
            return ENOSYS;
        }
    }
    return next(clock_id, flags, request, remain);
}

typedef int (*cond_timedwait_fn)(pthread_cond_t *, pthread_mutex_t *, const struct timespec *);

int pthread_cond_timedwait(pthread_cond_t *cond, pthread_mutex_t *mutex,
                           const struct timespec *deadline)
{
    /* glibc keeps the condition variable's clock in bit 1 of __wrefs (1: CLOCK_MONOTONIC). */
    if ((cond->__data.__wrefs >> 1) & 1) {
        return pthread_cond_clockwait(cond, mutex, CLOCK_MONOTONIC, deadline);
    }
    static cond_timedwait_fn next;
    if (next == NULL) {
        next = (cond_timedwait_fn)dlvsym(RTLD_NEXT, "pthread_cond_timedwait", "GLIBC_2.3.2");
        if (next == NULL) {
            return ENOSYS;
        }
    }
    return next(cond, mutex, deadline);
}
