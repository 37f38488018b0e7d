# Runs a command and checks its exit code and output, for the smoke tests that run the driver
# under mpirun (CTest alone checks only zero/non-zero).
#   cmake -DCOMMAND="prog|arg|arg" -DEXPECT=3|any [-DREGEX=...] [-DREGEX2=... -DREGEX3=...]
#         [-DMAX_SECONDS=n] [-DJSON=file -DJSON_REGEX=...]
#         [-DPROBE="prog|arg" -DPROBE_WANT=present|absent] -P expect_exit.cmake
# Every REGEX* given must match the output; MAX_SECONDS bounds the command's wall time.
# With PROBE, the probe runs first; when its exit status says the wanted GPUs are not there
# (PROBE_WANT=present) or are there (PROBE_WANT=absent), the script prints "SKIP: ..." (matched
# by the test's SKIP_REGULAR_EXPRESSION) and stops.
if(DEFINED PROBE)
  string(REPLACE "|" ";" probe "${PROBE}")
  execute_process(COMMAND ${probe} RESULT_VARIABLE probe_rc OUTPUT_VARIABLE probe_out
                  ERROR_VARIABLE probe_out)
  if(PROBE_WANT STREQUAL "present" AND NOT probe_rc EQUAL 0)
    message("SKIP: needs GPUs: ${probe_out}")
    return()
  endif()
  if(PROBE_WANT STREQUAL "absent" AND probe_rc EQUAL 0)
    message("SKIP: GPUs are present here, this test is for machines without: ${probe_out}")
    return()
  endif()
endif()
# LSAN_SUPPRESSIONS (sanitizer builds, mpirun tests): suppress leaks of Open MPI's libraries. A
# suppression by library name needs ASan's slow unwinder; the fast one loses its way in frames
# without frame pointers and names the wrong library.
if(DEFINED LSAN_SUPPRESSIONS)
  set(ENV{ASAN_OPTIONS} "$ENV{ASAN_OPTIONS}:fast_unwind_on_malloc=0")
  set(ENV{LSAN_OPTIONS} "$ENV{LSAN_OPTIONS}:suppressions=${LSAN_SUPPRESSIONS}:print_suppressions=0")
endif()
string(REPLACE "|" ";" command "${COMMAND}")
if(DEFINED JSON)
  file(REMOVE "${JSON}")
endif()
string(TIMESTAMP started "%s")
execute_process(COMMAND ${command} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err
                TIMEOUT 300)
# LeakSanitizer failing in itself ("Tracer caught signal 11", then "LeakSanitizer has encountered
# a fatal error"), which is not a leak report: its tracer, which stops a rank's threads to scan
# them at exit, crashes on some kernels (seen on 6.18 with GCC 12's libasan for an 8-rank run
# whose ranks exit 3; the same with the code before). The command runs once more without leak
# detection, ASan's other checks still on, and says so. A leak ("detected memory leaks") fails.
if(DEFINED LSAN_SUPPRESSIONS AND "${out}${err}" MATCHES "LeakSanitizer has encountered a fatal error")
  message("note: LeakSanitizer itself failed (not a leak); running again without leak detection")
  set(ENV{ASAN_OPTIONS} "$ENV{ASAN_OPTIONS}:detect_leaks=0")
  execute_process(COMMAND ${command} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err
                  TIMEOUT 300)
endif()
string(TIMESTAMP ended "%s")
math(EXPR took "${ended} - ${started}")
message("${out}")
message("${err}")
if(NOT EXPECT STREQUAL "any" AND NOT rc STREQUAL "${EXPECT}")
  message(FATAL_ERROR "exit status ${rc}, expected ${EXPECT}")
endif()
foreach(re IN ITEMS REGEX REGEX2 REGEX3)
  if(DEFINED ${re} AND NOT "${out}${err}" MATCHES "${${re}}")
    message(FATAL_ERROR "output does not match: ${${re}}")
  endif()
endforeach()
if(DEFINED MAX_SECONDS AND took GREATER MAX_SECONDS)
  message(FATAL_ERROR "took ${took} s, more than ${MAX_SECONDS} s")
endif()
if(DEFINED JSON)
  if(NOT EXISTS "${JSON}")
    message(FATAL_ERROR "no JSON report at ${JSON}")
  endif()
  file(READ "${JSON}" json)
  if(DEFINED JSON_REGEX AND NOT json MATCHES "${JSON_REGEX}")
    message(FATAL_ERROR "JSON report does not match: ${JSON_REGEX}")
  endif()
endif()
message("ok: exit status ${rc}")
