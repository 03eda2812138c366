# The rill-checkpoint tool on a directory the crash test's child leaves: the child runs
# tests/checkpoint/pipeline.hpp and rill kills it (SIGKILL) inside its 40th file write, leaving
# batches sealed but not checkpointed and a torn temporary file. Then list, describe and verify
# (text and JSON) must describe it, and verify must name damaged files with the right exit code.
#   cmake -DTOOL=<rill-checkpoint> -DCHILD=<checkpoint_crash_child> -DWORK_DIR=<dir> -P this
cmake_minimum_required(VERSION 3.25)

function(run_tool expected_code out_var)
  execute_process(COMMAND ${TOOL} ${ARGN} RESULT_VARIABLE code OUTPUT_VARIABLE out
                  ERROR_VARIABLE err)
  message(STATUS "rill-checkpoint ${ARGN} -> ${code}\n${out}${err}")
  if(NOT code STREQUAL "${expected_code}")
    message(FATAL_ERROR "rill-checkpoint ${ARGN}: exit code ${code}, expected ${expected_code}")
  endif()
  set(${out_var} "${out}${err}" PARENT_SCOPE)
endfunction()

function(expect text regex)
  if(NOT text MATCHES "${regex}")
    message(FATAL_ERROR "output does not match '${regex}'")
  endif()
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}/out")
set(ckpt "${WORK_DIR}/ckpt")
execute_process(COMMAND ${CMAKE_COMMAND} -E env RILL_CRASH_POINT=write:40
                        ${CHILD} ${ckpt} ${WORK_DIR}/out 30
                RESULT_VARIABLE child)
if(child EQUAL 0)
  message(FATAL_ERROR "the child was not killed at its 40th write")
endif()

run_tool(0 out list ${ckpt})
expect("${out}" "recovery restores: batch [0-9]+ ms \\(chain [0-9]+")
expect("${out}" "snapshot-[0-9]+\\.rill +ok")
expect("${out}" "delta-[0-9]+\\.rill +ok")
expect("${out}" "chains \\(snapshot <- deltas\\):\n  [0-9]+ <- [0-9]+")
expect("${out}" "pending batches \\(sealed, not checkpointed; run again at recovery\\): [1-9]")
expect("${out}" "sealed-[0-9]+\\.rill +[0-9]+ bytes  inputs: queue_stream#1, queue_stream#2")
expect("${out}" "queue_stream#1 +queue_stream +next [0-9]+")
expect("${out}" "watermarks \\(after batch [0-9]+ ms\\): global [0-9]+ ms")
expect("${out}" "\n  events +[0-9]+ ms")

run_tool(0 out describe ${ckpt})
expect("${out}" "totals +update_state_by_key +[0-9]+ +0x[0-9a-f]+ +[0-9]+ +(delta|whole)")
expect("${out}" "sessions +map_with_state +[0-9]+ +0x")
expect("${out}" "queue_stream#1 +queue_stream \\(input\\) +- +0x")

run_tool(0 out verify ${ckpt})
expect("${out}" "damaged files: none")
expect("${out}" "recovery: OK: restores batch [0-9]+ ms")

run_tool(0 json list --json ${ckpt})
string(JSON restores GET "${json}" restores)
string(JSON snapshot GET "${json}" chain 0)
string(JSON pending LENGTH "${json}" pending)
string(JSON position GET "${json}" inputs 0 position)
expect("${position}" "^next [0-9]+$")
run_tool(0 json describe --json ${ckpt})
string(JSON kind GET "${json}" operators 3 kind)
expect("${kind}" "update_state_by_key")

# The snapshot at the head of the restored chain, damaged: recovery falls back to the checkpoint
# before it; verify names the file, and exits 3 only with --strict.
execute_process(COMMAND truncate -s 30 "${ckpt}/snapshot-${snapshot}.rill")
run_tool(0 out verify ${ckpt})
expect("${out}" "DAMAGED [^\n]*snapshot-${snapshot}\\.rill: is truncated")
expect("${out}" "recovery: OK: restores batch [0-9]+ ms")
run_tool(3 out verify --strict ${ckpt})
run_tool(0 json verify --json ${ckpt})
string(JSON replayed LENGTH "${json}" replayed)
string(JSON first_replayed GET "${json}" replayed 0)
if(replayed LESS 2)
  message(FATAL_ERROR "expected at least two batches to run again, got ${replayed}")
endif()

# A seal record lost before a later one: recovery refuses, naming it.
file(REMOVE "${ckpt}/sealed-${first_replayed}.rill")
run_tool(1 out verify ${ckpt})
expect("${out}" "recovery: FAILS: [^\n]*sealed-${first_replayed}\\.rill' is missing")

# Bad input: a clear message and exit code 2, never a crash.
run_tool(2 out list ${WORK_DIR}/missing)
expect("${out}" "does not exist")
run_tool(2 out verify ${ckpt}/sealed-${restores}.rill)
expect("${out}" "not a directory")
run_tool(2 out frobnicate ${ckpt})
expect("${out}" "unknown command 'frobnicate'")
run_tool(0 out --help)
expect("${out}" "usage: rill-checkpoint")
file(REMOVE_RECURSE "${WORK_DIR}")
