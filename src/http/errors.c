#include "http/errors.h"

static const struct api_error_info table[] = {
#define X(name, status, type, code, msg) {#name, status, type, code, msg},
#include "http/errors.def"
#undef X
};

const struct api_error_info *api_error_info(enum api_err e)
{
	if ((unsigned)e >= API_ERR_COUNT)
		e = ERR_API;
	return &table[e];
}
