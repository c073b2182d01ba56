/*
 * Makes an event-object dictionary for src/events/pack_dict.c: the content of dictionary 1 with
 * zstd's entropy tables added (ZDICT_finalizeDictionary), computed from sample objects, one JSON
 * object per line on standard input (tools/event-dict-samples.sh prints them). Writes the C
 * definition of event_dict_<N>_head to standard output: the dictionary's bytes before its
 * content, which is dictionary 1's, so pack_dict.c keeps only the head (the tool checks that the
 * content is dictionary 1's, byte for byte).
 *
 * Run once, when a dictionary is made: its bytes are part of the store's format from then on
 * (pack_dict.c), and a later zstd could compute other tables from the same samples.
 *
 *   cc -O2 -Isrc tools/event-dict.c src/events/pack_dict.c -lzstd -o /tmp/event-dict
 *   tools/event-dict-samples.sh build/tender | /tmp/event-dict 2 > /tmp/dict2.c
 */
#define ZDICT_STATIC_LINKING_ONLY
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zdict.h>

#include "events/pack_dict.h"

#define SAMPLES_MAX 4096
#define LINE_MAX_BYTES (1u << 20)

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: event-dict N < samples\n");
		return 2;
	}
	static size_t sizes[SAMPLES_MAX];
	size_t cap = 1u << 24, used = 0;
	unsigned n = 0;
	char *all = malloc(cap), *line = malloc(LINE_MAX_BYTES);
	if (!all || !line)
		return 1;
	while (n < SAMPLES_MAX && fgets(line, LINE_MAX_BYTES, stdin)) {
		size_t len = strcspn(line, "\n");
		if (len == 0 || used + len > cap)
			continue;
		memcpy(all + used, line, len);
		used += len;
		sizes[n++] = len;
	}
	static char dict[1u << 17];
	ZDICT_params_t p;
	memset(&p, 0, sizeof(p));
	p.compressionLevel = -2; /* events/pack.c's PACK_LEVEL */
	p.notificationLevel = 0;
	p.dictID = (unsigned)atoi(argv[1]);
	size_t len = ZDICT_finalizeDictionary(dict, sizeof(dict), event_dict_1, event_dict_1_len,
					      all, sizes, n, p);
	if (ZDICT_isError(len)) {
		fprintf(stderr, "event-dict: %s\n", ZDICT_getErrorName(len));
		return 1;
	}
	/* ZDICT puts the content last: what comes before it is the head */
	if (len < event_dict_1_len ||
	    memcmp(dict + len - event_dict_1_len, event_dict_1, event_dict_1_len) != 0) {
		fprintf(stderr, "event-dict: the dictionary does not end with dictionary 1\n");
		return 1;
	}
	size_t head = len - event_dict_1_len;
	fprintf(stderr, "event-dict: %u samples, %zu bytes, head %zu\n", n, len, head);
	printf("const unsigned char event_dict_%s_head[] = {", argv[1]);
	for (size_t i = 0; i < head; i++)
		printf("%s0x%02x,", i % 16 ? " " : "\n    ", (unsigned char)dict[i]);
	printf("\n};\nconst size_t event_dict_%s_head_len = sizeof(event_dict_%s_head);\n", argv[1],
	       argv[1]);
	free(all);
	free(line);
	return 0;
}
