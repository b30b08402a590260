// OpenCL through the ICD loader. Target 3.0 headers but keep the 1.2 entry points
// (clCreateCommandQueue) available for 1.2-only platforms.
#define CL_TARGET_OPENCL_VERSION 300
#define CL_USE_DEPRECATED_OPENCL_1_2_APIS
#include <CL/cl.h>
