/* The dictionaries of packed event objects (pack.c). Part of the store's format: never edited. */
#ifndef TENDER_EVENTS_PACK_DICT_H
#define TENDER_EVENTS_PACK_DICT_H

#include <stddef.h>

extern const char event_dict_1[];
extern const size_t event_dict_1_len;
/* dictionary 2 is event_dict_2_head followed by event_dict_1 (pack_dict.c) */
extern const unsigned char event_dict_2_head[];
extern const size_t event_dict_2_head_len;

#endif
