# Untrusted input: the allocation-bomb test against the real worker, a replay
# of the fuzz corpus that any compiler runs, and (LEDGER_FUZZ, clang only)
# the libFuzzer target that `make fuzz` and `make fuzz-ci` run.

option(LEDGER_FUZZ "Build the libFuzzer target fuzz_request (needs clang)" OFF)

ledger_integration_test(test_bombs)

set(LEDGER_FUZZ_CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/corpus/request)

# Every seed and every regression kept in the corpus, run once through the
# fuzz target's checks: the found bugs stay fixed in `make test` (and under
# ASan and UBSan in `make test-asan`).
add_executable(fuzz_request_replay fuzz/fuzz_request.c)
target_compile_definitions(fuzz_request_replay PRIVATE FUZZ_REPLAY_MAIN)
target_link_libraries(fuzz_request_replay PRIVATE ledger_proto)
add_test(NAME fuzz_corpus_replay COMMAND fuzz_request_replay ${LEDGER_FUZZ_CORPUS})

if(LEDGER_FUZZ AND CMAKE_C_COMPILER_ID MATCHES "Clang")
    # The proto sources again, instrumented; proto_json.c would pull in jansson.
    set(LEDGER_FUZZ_PROTO_SOURCES ${LEDGER_PROTO_SOURCES})
    list(FILTER LEDGER_FUZZ_PROTO_SOURCES EXCLUDE REGEX "/proto_json\\.c$")
    set(LEDGER_FUZZ_FLAGS -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
                          -fno-omit-frame-pointer -g)
    add_executable(fuzz_request fuzz/fuzz_request.c ${LEDGER_FUZZ_PROTO_SOURCES})
    target_include_directories(fuzz_request PRIVATE ${LEDGER_PROTO_DIR})
    target_compile_options(fuzz_request PRIVATE ${LEDGER_FUZZ_FLAGS})
    target_link_options(fuzz_request PRIVATE ${LEDGER_FUZZ_FLAGS})
    target_link_libraries(fuzz_request PRIVATE PkgConfig::MSGPACK)
    # The corpus once through the instrumented build (no fuzzing).
    add_test(NAME fuzz_request_corpus COMMAND fuzz_request -runs=0 -rss_limit_mb=256 ${LEDGER_FUZZ_CORPUS})
elseif(LEDGER_FUZZ)
    message(WARNING "LEDGER_FUZZ needs clang (configure with -DCMAKE_C_COMPILER=clang); "
                    "fuzz_request is not built with ${CMAKE_C_COMPILER_ID}")
endif()
