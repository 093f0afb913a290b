#ifndef JIAYUAN_CCURL_SHIM_H
#define JIAYUAN_CCURL_SHIM_H

// libcurl (Debian's libcurl4-openssl-dev), exposed to Swift as the system module `CCurl`. Only the
// JiayuanHTTP target imports it. curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot
// call, so each argument type gets one small typed wrapper here.

#include <curl/curl.h>

typedef size_t (*jiayuan_curl_write_fn)(char *data, size_t size, size_t count, void *userdata);

static inline CURLcode jiayuan_curl_set_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode jiayuan_curl_set_offset(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode jiayuan_curl_set_pointer(CURL *handle, CURLoption option, const void *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode jiayuan_curl_set_write_function(CURL *handle, CURLoption option, jiayuan_curl_write_fn fn) {
    return curl_easy_setopt(handle, option, fn);
}

static inline CURLcode jiayuan_curl_get_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

#endif
