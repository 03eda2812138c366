# rill's dependencies, all from Debian 12's packages (scripts/install-deps installs them).
# Nothing is downloaded at configure time.
set(THREADS_PREFER_PTHREAD_FLAG ON)
find_package(Threads REQUIRED)
find_package(Boost 1.81 REQUIRED CONFIG COMPONENTS json)
find_package(fmt REQUIRED CONFIG)
find_package(spdlog REQUIRED CONFIG)
find_package(cereal REQUIRED CONFIG)
