/*
 * The bundled exchange-rate snapshot (data/rates/ecb-snapshot.xml, ECB eurofxref layout), embedded
 * by data/rates/embed.sh into rates_bundled.c. A fixed test snapshot, not live data: see the
 * comment at the top of the XML. fx_table_load_bundled() parses it.
 */
#ifndef TENDER_MONEY_RATES_BUNDLED_H
#define TENDER_MONEY_RATES_BUNDLED_H

#include <stddef.h>

extern const char fx_rates_bundled_xml[];
extern const size_t fx_rates_bundled_xml_len; /* without the terminating NUL */

#endif
