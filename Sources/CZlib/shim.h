#ifndef JIAYUAN_CZLIB_SHIM_H
#define JIAYUAN_CZLIB_SHIM_H
#include <zlib.h>
#endif
