# The SDK's version check (CartwireSDKVersion.cmake: same major version, at
# least the one asked for). Until 1.6.0 the package carried the number 0.1.0
# whatever the SDK's version: a connector asking for 0.1 builds with any 1.x.
include("${CMAKE_CURRENT_LIST_DIR}/CartwireSDKVersion.cmake")
if(NOT PACKAGE_VERSION_COMPATIBLE AND NOT PACKAGE_FIND_VERSION_RANGE AND PACKAGE_FIND_VERSION_MAJOR EQUAL 0
   AND PACKAGE_FIND_VERSION VERSION_LESS_EQUAL 0.1 AND PACKAGE_VERSION MATCHES "^1\\.")
  set(PACKAGE_VERSION_COMPATIBLE TRUE)
endif()
