# ledger-bench's smoke runs: a second or two each, proving the tool works and
# that every reply was ok (ledger-bench exits 1 if any batch failed, had a
# failed op or was lost, 3 if it could not set up). Timing targets are not
# checked here: they live in `ledger-bench compare` (see BENCHMARKS.md).
if(TARGET ledger-bench)
    set(BENCH_SCRIPT_DIR ${CMAKE_CURRENT_BINARY_DIR}/bench)
    file(MAKE_DIRECTORY ${BENCH_SCRIPT_DIR})
    # A scripted load as `ledgerctl submit` reads it: later lines use what
    # earlier ones made, so it runs once, in order.
    file(WRITE ${BENCH_SCRIPT_DIR}/script.jsonl
"{\"ops\": [{\"op\": \"category.create\", \"name\": \"Food\"}, {\"op\": \"category.create\", \"name\": \"Market\", \"parent\": {\"ref\": 0}}]}

{\"ops\": [{\"op\": \"txn.create\", \"amount\": \"-12.34\", \"occurred_at\": \"2025-01-02T10:00:00+01:00\", \"category\": \"Market\"}]}
{\"mode\": \"independent\", \"ops\": [{\"op\": \"txn.create\", \"amount\": 700, \"occurred_at\": \"2025-01-03T08:30:00Z\"}, {\"op\": \"sys.ping\"}]}
{\"ops\": [{\"op\": \"txn.query\", \"from\": \"2025-01-01\", \"categories\": [\"Food\"], \"include_subcategories\": true}]}
")
    # The same, with a batch that must fail: the tool has to notice.
    file(WRITE ${BENCH_SCRIPT_DIR}/failing.jsonl
"{\"ops\": [{\"op\": \"txn.create\", \"amount\": 1, \"occurred_at\": \"2025-01-03T08:30:00Z\"}]}
{\"ops\": [{\"op\": \"txn.get\", \"id\": 999999}]}
")

    # The worker, pipelined, with every op kind and a paging reader beside.
    add_test(NAME bench_worker
             COMMAND ledger-bench --spawn --clients 2 --window 4 --batches 200 --batch-ops 5
                     --mix create:80,update:10,get:5,query:5 --prefill 500 --query-clients 1 --json --quiet)
    # Open loop: 200 batches on a schedule at 400/s.
    add_test(NAME bench_open_loop
             COMMAND ledger-bench --spawn --clients 2 --window 8 --rate 400 --batches 200 --sync normal --quiet)
    # The baselines and the echo, same workload shape.
    add_test(NAME bench_baselines
             COMMAND ledger-bench --direct --raw --echo --clients 2 --batches 100 --batch-ops 5
                     --mix create:90,update:5,get:5 --prefill 100 --sync normal --json --quiet)
    # txn.summary against paging every row: the two must agree.
    add_test(NAME bench_summary
             COMMAND ledger-bench summary --rows 3000 --categories 5 --runs 1)
    add_test(NAME bench_script
             COMMAND ledger-bench --spawn --script ${BENCH_SCRIPT_DIR}/script.jsonl --quiet)
    # A not_found reply must make the run fail with status 1, not pass.
    add_test(NAME bench_detects_failure
             COMMAND sh -c "\"$0\" --spawn --script \"$1\" --quiet; test $? -eq 1"
                     $<TARGET_FILE:ledger-bench> ${BENCH_SCRIPT_DIR}/failing.jsonl)
    # Bad usage is status 2, and nothing starts.
    add_test(NAME bench_usage
             COMMAND sh -c "\"$0\" --spawn --window 501; test $? -eq 2" $<TARGET_FILE:ledger-bench>)
    # The soak machinery on a tiny scale. It must judge (exit 0 or 1), every batch must be ok and the
    # worker's peak within the limit: none of that depends on how busy the machine is. Whether memory
    # was flat does: one second, sampled every 0.1 s, may not give each half the two samples the
    # verdict needs on a loaded machine, so the overall verdict is not required here; the verdict's
    # rules are held to their edges with made-up samples in tests/unit/test_bench_soak.c.
    add_test(NAME bench_soak_runs
             COMMAND sh -c "out=$(\"$0\" soak --rows 4000 --batch-ops 100 --duration 1 --sample-s 0.1 --quiet); s=$?;
                            printf '%s\\n' \"$out\"; test $s -le 1 || exit 1;
                            printf '%s\\n' \"$out\" | grep -q '^target 6: peak RSS .* after 4000 rows .*  PASS$' || exit 1;
                            ! printf '%s\\n' \"$out\" | grep -q 'not every batch was ok'"
                     $<TARGET_FILE:ledger-bench>)
    # Issue 13's load on a small scale: 50 connections, each its own DEALER socket, a keyed batch
    # each every 100 ms for 2 s. It must run and exit 0: every reply ok or overloaded, every batch
    # answered ok in the database, the worker stopped cleanly (timings are not checked).
    add_test(NAME bench_connections
             COMMAND ledger-bench connections --spawn --connections 50 --duration 2 --timeout-ms 20000 --quiet)
    set_tests_properties(bench_worker bench_open_loop bench_baselines bench_script bench_detects_failure
                         bench_usage bench_soak_runs bench_connections PROPERTIES TIMEOUT 120)
    # Issue 9's cluster bench on a tiny scale (three nodes, dqlite-direct, both ledgerd phases, one
    # leader kill, every batch ok) is not in `make test`: once, under the suite's load, both
    # followers of Debian's dqlite 1.11 aborted at the end of its dqlite-direct phase
    # ("maybeCheckpoint: Assertion `db->follower == NULL'", BENCHMARKS.md), and the run hung.
    # Run it by hand: sh tests/support/bench_cluster_check.sh build/bin/ledger-bench
endif()
