# Included into every CMake package of the workspace via -DCMAKE_PROJECT_INCLUDE (set in the
# colcon defaults file that scripts/setup.sh writes into .venv/).
#
# Why: the ROS 2 wheels from PyPI export CMake targets (e.g. <pkg>__rosidl_generator_py)
# whose INTERFACE_INCLUDE_DIRECTORIES name two paths of the machine that built the wheels:
#   /opt/python/cp311-cp311/include/python3.11
#   /opt/python/cp311-cp311/lib/python3.11/site-packages/numpy/_core/include
# CMake refuses to generate with "Imported target ... includes non-existent path". At the end
# of configure (deferred), rewrite those entries to the running interpreter's include dir and
# numpy's. It changes nothing where the paths are fine (e.g. a real ROS 2 install).

if(CMAKE_VERSION VERSION_LESS 3.19)
  message(WARNING "fix_wheel_include_dirs.cmake needs CMake >= 3.19 (cmake_language DEFER)")
  return()
endif()

# Imported targets of the top-level directory: rosidl packages find_package() them there.
function(_gpc_fix_targets py_inc np_inc)
  get_property(targets DIRECTORY "${CMAKE_SOURCE_DIR}" PROPERTY IMPORTED_TARGETS)
  foreach(target IN LISTS targets)
    get_target_property(incs ${target} INTERFACE_INCLUDE_DIRECTORIES)
    if(NOT incs OR NOT incs MATCHES "/opt/python/cp311-cp311")
      continue()
    endif()
    set(fixed "")
    foreach(inc IN LISTS incs)
      if(inc MATCHES "^/opt/python/cp311-cp311/.*/numpy/")
        set(inc "${np_inc}")
      elseif(inc MATCHES "^/opt/python/cp311-cp311/include/")
        set(inc "${py_inc}")
      endif()
      list(APPEND fixed "${inc}")
    endforeach()
    set_target_properties(${target} PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${fixed}")
  endforeach()
endfunction()

function(_gpc_fix_wheel_include_dirs)
  # The interpreter the packages are built for: the one FindPython3 picked, else the
  # first python3 on PATH (the venv's, when env.sh or setup.sh set PATH).
  if(Python3_EXECUTABLE)
    set(_gpc_python "${Python3_EXECUTABLE}")
  else()
    find_program(_gpc_python NAMES python3 python)
  endif()
  if(NOT _gpc_python)
    return()
  endif()
  execute_process(
    COMMAND "${_gpc_python}" -c "import sysconfig, numpy; print(sysconfig.get_paths()['include'] + ';' + numpy.get_include(), end='')"
    OUTPUT_VARIABLE dirs
    RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(WARNING "fix_wheel_include_dirs: ${_gpc_python} could not report its include dirs")
    return()
  endif()
  list(GET dirs 0 py_inc)
  list(GET dirs 1 np_inc)
  _gpc_fix_targets("${py_inc}" "${np_inc}")
endfunction()

# CMAKE_PROJECT_INCLUDE runs inside project() of every project() call; defer once, in the
# top-level directory, so the fix runs after all find_package() calls.
if(CMAKE_CURRENT_SOURCE_DIR STREQUAL CMAKE_SOURCE_DIR)
  get_property(_gpc_fix_deferred GLOBAL PROPERTY _GPC_FIX_WHEEL_INCLUDE_DIRS_DEFERRED)
  if(NOT _gpc_fix_deferred)
    set_property(GLOBAL PROPERTY _GPC_FIX_WHEEL_INCLUDE_DIRS_DEFERRED TRUE)
    cmake_language(DEFER DIRECTORY "${CMAKE_SOURCE_DIR}" CALL _gpc_fix_wheel_include_dirs)
  endif()
endif()
