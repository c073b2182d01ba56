/* Payment method domains (payment_method_domains.c): the host name check their domain_name
 * takes. */
#ifndef TENDER_API_PAYMENT_METHOD_DOMAINS_H
#define TENDER_API_PAYMENT_METHOD_DOMAINS_H

#define HOST_NAME_MAX_LEN 253

/* Lower-cases a host name (dot-separated labels of 1 to 63 letters, digits and hyphens, no
 * label starting or ending with a hyphen, at least two labels, the last not all digits, at most
 * 253 characters) into out. 0, or -1 when in is not one (out is then undefined). */
int host_name_normalize(const char *in, char out[HOST_NAME_MAX_LEN + 1]);

#endif
