/*
 * Access to the fraud model embedded at build time.
 *
 * CMake turns data/fraud/model.json into a generated C file (cmake/embed_file.cmake) defining
 * risk_model_bundled_json / risk_model_bundled_json_len, and defines TENDER_HAVE_BUNDLED_MODEL
 * for tender_lib. Without that definition the binary still builds and links (useful while the
 * build is being wired) but risk_model_load_bundled() reports that no model was compiled in.
 * A define rather than a weak symbol: the generated object sits in a static library, and a weak
 * reference would not make the linker pull it in.
 */
#include "risk/bundled.h"
#include "risk/model.h"

#ifdef TENDER_HAVE_BUNDLED_MODEL

const unsigned char *risk_model_bundled_data(size_t *ret_len)
{
	*ret_len = risk_model_bundled_json_len;
	return risk_model_bundled_json;
}

#else

const unsigned char *risk_model_bundled_data(size_t *ret_len)
{
	*ret_len = 0;
	return NULL;
}

#endif
