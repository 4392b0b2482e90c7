# SPDX-License-Identifier: BSD-3-Clause
# run_fuzzer.cmake - one bounded libFuzzer run, as a ctest test.
# -DFUZZER= the harness, -DSEEDS= its committed corpus, -DSCRATCH= a writable
# folder for new inputs and crash files, -DSECONDS= how long to fuzz.
file(MAKE_DIRECTORY ${SCRATCH})
execute_process(
  COMMAND ${FUZZER} -max_total_time=${SECONDS} -print_final_stats=1 -artifact_prefix=${SCRATCH}/
          ${SCRATCH} ${SEEDS}
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${FUZZER} found a failure (exit ${rc}); the input is in ${SCRATCH}/")
endif()
