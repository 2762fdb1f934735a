# The soak test: short in `make test` (LEDGER_SOAK_SECONDS, default 8);
# the long form is `LEDGER_SOAK_SECONDS=600 build/bin/test_soak`.
add_executable(test_soak soak/test_soak.c)
target_link_libraries(test_soak PRIVATE ledger_test_support ledger_static PkgConfig::SQLITE Threads::Threads)
add_test(NAME test_soak COMMAND test_soak)
set_tests_properties(test_soak PROPERTIES TIMEOUT 900)
