#ifndef JIAYUAN_CQRENCODE_SHIM_H
#define JIAYUAN_CQRENCODE_SHIM_H

// libqrencode, exposed to Swift as the system module `CQREncode`.
// Only the JiayuanQR target imports it.
#include <qrencode.h>

#endif
