/* Symbols defined by the build-generated file embedding data/fraud/model.json (see bundled.c). */
#ifndef TENDER_RISK_BUNDLED_H
#define TENDER_RISK_BUNDLED_H

#include <stddef.h>

extern const unsigned char risk_model_bundled_json[];
extern const size_t risk_model_bundled_json_len;

#endif
