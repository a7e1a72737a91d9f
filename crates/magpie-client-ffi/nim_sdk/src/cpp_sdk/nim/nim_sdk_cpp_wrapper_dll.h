/* NIM's C++ wrapper export macro: Magpie's wrapper is header-only, so it
   is empty (as NIM's is without CPPWRAPPER_DLL). */
#ifndef MAGPIE_NIM_SDK_CPP_WRAPPER_DLL_H
#define MAGPIE_NIM_SDK_CPP_WRAPPER_DLL_H
#ifndef NIM_SDK_CPPWRAPPER_DLL_API
#define NIM_SDK_CPPWRAPPER_DLL_API
#endif
#endif
