# docker-compose.yml and the Dockerfile, checked without a Docker engine.
# The Debian package docker-compose is installed by scripts/install-deps.sh;
# if it is missing the test fails (it is never skipped).
find_program(DOCKER_COMPOSE_EXECUTABLE docker-compose)
if(DOCKER_COMPOSE_EXECUTABLE)
    add_test(NAME compose_config
             COMMAND ${DOCKER_COMPOSE_EXECUTABLE} -f ${PROJECT_SOURCE_DIR}/docker-compose.yml config -q
             WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
    # The cluster profile: valid, three nodes, two of them joining.
    add_test(NAME compose_cluster_config
             COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/support/compose_cluster_check.sh ${DOCKER_COMPOSE_EXECUTABLE}
             WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
    # One service builds the image; healthchecks outlast a ping.
    add_test(NAME compose_build_once
             COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/support/compose_build_check.sh ${DOCKER_COMPOSE_EXECUTABLE}
             WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
    # Prometheus: the official image, a valid scrape configuration, targets
    # that serve --metrics-bind.
    find_program(PROMTOOL_EXECUTABLE promtool)
    add_test(NAME compose_metrics_config
             COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/support/compose_metrics_check.sh ${DOCKER_COMPOSE_EXECUTABLE}
                     ${PROMTOOL_EXECUTABLE}
             WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
else()
    message(WARNING "docker-compose not found: the compose_config test will fail "
                    "(install the Debian package docker-compose, or run scripts/install-deps.sh)")
    add_test(NAME compose_config
             COMMAND sh -c "echo 'compose_config: docker-compose not found; install the Debian package docker-compose (scripts/install-deps.sh)' >&2; exit 1")
endif()

# The image is built with the README's command, not a private recipe.
add_test(NAME dockerfile_uses_readme_build
         COMMAND sh -c "grep -Eq '^RUN +make build$' Dockerfile || { echo 'Dockerfile: the build stage must RUN make build, as the README does' >&2; exit 1; }"
         WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
