# The manual pages (man/, built into ${CMAKE_BINARY_DIR}/man) against the
# programs and the header: every option --help prints, for ledgerd,
# ledgerctl and each of its commands, ledger-bench and each subcommand, and
# every function client/ledger.h declares, must be in its page. man-db's
# man renders them (scripts/install-deps.sh test installs it); without it,
# or without the pages (scdoc), the test fails and says why.
add_test(NAME man_pages
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/support/man_check.sh ${CMAKE_BINARY_DIR}/man ${PROJECT_SOURCE_DIR}
                 $<TARGET_FILE:ledgerd> $<TARGET_FILE:ledgerctl> $<TARGET_FILE:ledger-bench>)
