/* The dictionaries of packed event objects (pack.c). Part of the store's format: never edited. */
#ifndef TENDER_EVENTS_PACK_DICT_H
#define TENDER_EVENTS_PACK_DICT_H

#include <stddef.h>

extern const char event_dict_1[];
extern const size_t event_dict_1_len;

#endif
