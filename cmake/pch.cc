// Compiles the precompiled headers (cmake/PrecompiledHeaders.cmake); defines nothing.
