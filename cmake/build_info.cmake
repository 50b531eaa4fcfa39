# Writes common/build_info.h with the current git revision; run at every build (see
# common/CMakeLists.txt). configure_file leaves the file untouched when nothing changed, so an
# unchanged revision rebuilds nothing.
execute_process(COMMAND git rev-parse --short=12 HEAD WORKING_DIRECTORY ${SOURCE_DIR}
                OUTPUT_VARIABLE SEXTANT_REVISION OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT SEXTANT_REVISION)
  set(SEXTANT_REVISION unknown)
endif()
configure_file(${SOURCE_DIR}/common/build_info.h.in ${OUTPUT} @ONLY)
