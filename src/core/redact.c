#include "core/redact.h"

bool redact_pan_like(const char *s, size_t n)
{
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c >= '0' && c <= '9') {
			if (++run >= 12)
				return true;
		} else if (c != ' ' && c != '-' && c != '+') {
			run = 0;
		}
	}
	return false;
}
