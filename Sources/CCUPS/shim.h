#ifndef JIAYUAN_CCUPS_SHIM_H
#define JIAYUAN_CCUPS_SHIM_H

// libcups (CUPS 2.x), exposed to Swift as the system module `CCUPS`. Debian's libcups2-dev ships no
// cups.pc, so the module map links `cups` directly. Only the JiayuanCUPS target imports it.
//
// _CUPS_NO_DEPRECATED hides the deprecated CUPS 1.x API (the old enum spellings such as
// HTTP_ENCRYPT_IF_REQUESTED, cupsGetPrinters, httpConnect, ...) and marks what remains deprecated as
// unavailable, so nothing deprecated can be called by accident and no deprecation warning reaches Swift.
#define _CUPS_NO_DEPRECATED 1

#include <cups/cups.h>
#include <cups/http.h>
#include <cups/ipp.h>
#include <sys/socket.h>

#endif
