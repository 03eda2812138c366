# rill's dependencies, all from Debian 12's packages (scripts/install-deps installs them).
# Nothing is downloaded at configure time.
set(THREADS_PREFER_PTHREAD_FLAG ON)
find_package(Threads REQUIRED)
# Boost.JSON is the one compiled Boost library rill uses (record formats: rill/formats/json.hpp);
# Boost.Describe, Asio and unordered_flat_map are header-only.
find_package(Boost 1.81 REQUIRED CONFIG COMPONENTS json)
find_package(fmt REQUIRED CONFIG)
find_package(spdlog REQUIRED CONFIG)
find_package(cereal REQUIRED CONFIG)
