# Turns the numbered migration files into a C table: {version, name, sql}, named
# migrations_${NAME}: CMakeLists.txt runs it once for each set (NAME=sqlite, NAME=pg).
# File names are NNNN_name.sql; NNNN is the schema version the file brings the store to.
set(body "/* generated from src/store/migrations by cmake/embed_migrations.cmake */\n#include \"store/migrate.h\"\n")
set(entries "")
set(i 0)
separate_arguments(FILES)
foreach(f ${FILES})
  get_filename_component(base ${f} NAME_WE)
  string(REGEX MATCH "^[0-9]+" ver ${base})
  math(EXPR vernum "${ver} + 0")
  file(READ ${f} hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(APPEND body "static const char m${i}[] = {${bytes}0x00};\n")
  string(APPEND entries "  {${vernum}, \"${base}\", m${i}},\n")
  math(EXPR i "${i} + 1")
endforeach()
string(APPEND body "const struct migration migrations_${NAME}[] = {\n${entries}  {0, 0, 0}\n};\n")
file(WRITE ${OUT} "${body}")
