# cmake -DPROGRAM=prog -DARGS="arg ..." -DOUTPUT=file -P run_to_file.cmake: runs PROGRAM ARGS and
# writes its standard output to OUTPUT (the man page and completion scripts, written by the built
# layerplan from the same definitions as its --help). Fails when the program does.
separate_arguments(arg_list UNIX_COMMAND "${ARGS}")
execute_process(COMMAND ${PROGRAM} ${arg_list} OUTPUT_FILE ${OUTPUT}.tmp RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  file(REMOVE ${OUTPUT}.tmp)
  message(FATAL_ERROR "${PROGRAM} ${ARGS} failed (${result})")
endif()
file(RENAME ${OUTPUT}.tmp ${OUTPUT})
