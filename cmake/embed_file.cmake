# Embeds one file into the binary as a C byte array (used for the bundled fraud model).
#   cmake -DIN=data/fraud/model.json -DOUT=generated/x.c -DSYMBOL=risk_model_bundled_json
#         [-DINCLUDE=risk/bundled.h] -P cmake/embed_file.cmake
# Defines `const unsigned char SYMBOL[]` (followed by a NUL that is not counted) and
# `const size_t SYMBOL_len`. INCLUDE names a header declaring both, so -Wmissing-* stays quiet.
if(NOT IN OR NOT OUT OR NOT SYMBOL)
  message(FATAL_ERROR "embed_file.cmake needs -DIN, -DOUT and -DSYMBOL")
endif()
file(READ ${IN} hex HEX)
string(LENGTH "${hex}" hexlen)
math(EXPR len "${hexlen} / 2")
# Sixteen bytes per line keeps the generated file readable in an editor.
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REPEAT "0x[0-9a-f][0-9a-f]," 16 line_pattern)
string(REGEX REPLACE "(${line_pattern})" "\\1\n" bytes "${bytes}")
set(body "/* generated from ${IN} by cmake/embed_file.cmake; do not edit */\n#include <stddef.h>\n")
if(INCLUDE)
  string(APPEND body "#include \"${INCLUDE}\"\n")
endif()
string(APPEND body "const unsigned char ${SYMBOL}[] = {\n${bytes}0x00};\n")
string(APPEND body "const size_t ${SYMBOL}_len = ${len};\n")
file(WRITE ${OUT}.tmp "${body}")
# Replace only when changed so an unchanged model does not trigger a recompile.
configure_file(${OUT}.tmp ${OUT} COPYONLY)
file(REMOVE ${OUT}.tmp)
