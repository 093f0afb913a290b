#ifndef JIAYUAN_CLIBPQ_SHIM_H
#define JIAYUAN_CLIBPQ_SHIM_H

// libpq's header lives in <prefix>/include/postgresql on Debian/Ubuntu (libpq-dev), and pkg-config
// normally adds -I/usr/include/postgresql. If pkg-config (or libpq.pc) is missing, fall back to the
// Debian path relative to /usr/include: libpq-fe.h includes its siblings with quotes, so they resolve
// from its own directory without any extra -I.
#if __has_include(<libpq-fe.h>)
#include <libpq-fe.h>
#elif __has_include(<postgresql/libpq-fe.h>)
#include <postgresql/libpq-fe.h>
#else
#error "libpq-fe.h not found: install libpq-dev (Debian/Ubuntu) or libpq (Homebrew)"
#endif

#endif
