# The kill -9 crash test (tests/crash/test_crash.c): batches answered ok
# survive any number of SIGKILLs of ledgerd --sync full, whole and exactly
# once. ctest runs the short form; the long form runs by hand, e.g.
#   LEDGER_CRASH_KILLS=500 LEDGER_CRASH_BATCHES=5000 build/bin/test_crash
# (LEDGER_CRASH_SEED=N repeats a run's kill delays).
add_executable(test_crash crash/test_crash.c)
target_include_directories(test_crash PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/support)
target_link_libraries(test_crash PRIVATE ledger_test_support ledger_static PkgConfig::SQLITE Threads::Threads)
add_test(NAME test_crash COMMAND test_crash)
set_tests_properties(test_crash PROPERTIES TIMEOUT 300)
