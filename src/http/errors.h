#ifndef TENDER_HTTP_ERRORS_H
#define TENDER_HTTP_ERRORS_H

enum api_err {
#define X(name, status, type, code, msg) name,
#include "http/errors.def"
#undef X
	API_ERR_COUNT
};

struct api_error_info {
	const char *name;
	int status;
	const char *type;
	const char *code; /* "" when the error carries no code */
	const char *message;
};

const struct api_error_info *api_error_info(enum api_err e);

#endif
