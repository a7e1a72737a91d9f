/* NIM's export macro. Magpie's libnim exports its symbols itself; apps see
   NIM_SDK_DLL_API as nothing, as NIM's headers define it for GCC imports. */
#ifndef MAGPIE_NIM_SDK_DLL_H
#define MAGPIE_NIM_SDK_DLL_H
#ifndef NIM_SDK_DLL_API
#define NIM_SDK_DLL_API
#endif
#endif
