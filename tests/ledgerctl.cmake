# ledgerctl: the CSV reader and import-file checks as a unit test, and the
# real binary against a real worker as an integration test.
set(LEDGERCTL_DIR ${CMAKE_SOURCE_DIR}/client/ledgerctl)

ledger_unit_test(test_csv ${LEDGERCTL_DIR}/csv.c ${LEDGERCTL_DIR}/import_rows.c)
target_include_directories(test_csv PRIVATE ${LEDGERCTL_DIR})
target_link_libraries(test_csv PRIVATE ledger_proto PkgConfig::JANSSON PkgConfig::CZMQ)

ledger_integration_test(test_ledgerctl PkgConfig::SQLITE)
target_compile_definitions(test_ledgerctl PRIVATE
    LEDGERCTL_PATH="$<TARGET_FILE:ledgerctl>"
    LEDGERD_PATH="$<TARGET_FILE:ledgerd>"
    SAMPLE_CSV_PATH="${CMAKE_SOURCE_DIR}/examples/sample.csv")
add_dependencies(test_ledgerctl ledgerctl ledgerd)
