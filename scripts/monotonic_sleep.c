/*
 * A companion to Debian's libfaketime for `make test-anytime` (scripts/test-anytime).
 *
 * With FAKETIME_DONT_FAKE_MONOTONIC=1 (the monotonic clock stays real, so timeouts and
 * lock waits keep working), libfaketime 0.9.10 still shifts the deadline of an absolute
 * clock_nanosleep on the monotonic clock by the fake offset, and the kernel answers EINVAL:
 * Python's time.sleep() fails with "OSError: [Errno 22] Invalid argument". Loaded before
 * libfaketime, this sends sleeps on the clocks libfaketime leaves alone straight to the
 * kernel, and every other clock_nanosleep on to libfaketime.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
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
