/* NIM's global definitions: the result key, the JSON keys of NIM's
   nim_global_def.h, enum NIMResCode (nim_res_code_def.h), the enums
   NIMSDKLogLevel, NIMProxyType, NIMProxyDetectStep, NIMSDKException,
   NIMDBOperation and the callback typedefs, from the generated nim_c_defs.h
   and below. */
#ifndef NIM_GLOBAL_DEF_H
#define NIM_GLOBAL_DEF_H
#include "nim_res_code_def.h"
#include "nim_c_defs.h"

/* NIM's export macro, as NIM's headers define it for an app importing the
   library (empty with GCC and Clang), so NIM's printed prototypes compile. */
#ifndef NIM_SDK_DLL_API
#define NIM_SDK_DLL_API
#endif

/* JSON keys are constants, as in NIM's headers; unused ones draw no warning. */
#if defined(__GNUC__) || defined(__clang__)
#define NIM_JSON_KEY static const char *const __attribute__((unused))
#else
#define NIM_JSON_KEY static const char *const
#endif
NIM_JSON_KEY kNIMResCode = "err_code"; /**< int, NIMResCode */
NIM_JSON_KEY kNIMCacheFileType = "file_type";
NIM_JSON_KEY kNIMCacheFileCount = "file_count";
NIM_JSON_KEY kNIMCacheFilePath = "file_path";
NIM_JSON_KEY kNIMCacheFileTotalSize = "total_size";
NIM_JSON_KEY kNIMCacheFileOther = "res";
NIM_JSON_KEY kNIMCacheFileImage = "image";
NIM_JSON_KEY kNIMCacheFileAudio = "audio";
NIM_JSON_KEY kNIMCacheFileVideo = "video";
NIM_JSON_KEY kNIMDBErrDBName = "db_name";
NIM_JSON_KEY kNIMDBERROperation = "operation";
NIM_JSON_KEY kNIMDBErrCode = "error_code";
NIM_JSON_KEY kNIMDBErrDescription_ = "error_description";
NIM_JSON_KEY kNIMDBErrAttach = "error_attach";

#ifdef __cplusplus
extern "C" {
#endif
/* The global callbacks of NIM's nim_global.h outside the login chapter
   (Magpie does not export their functions; the types are here so code that
   names them compiles). */
typedef void (*nim_sdk_log_cb_func)(int log_level, const char *log, const void *user_data);
typedef void (*nim_sdk_exception_cb_func)(enum NIMSDKException exception, const char *log, const void *user_data);
typedef void (*nim_sdk_get_cache_file_info_cb_func)(const char *info, const void *user_data);
typedef void (*nim_sdk_del_cache_file_cb_func)(enum NIMResCode rescode, const void *user_data);
typedef void (*nim_sdk_feedback_cb_func)(enum NIMResCode rescode, const void *user_data);
typedef void (*nim_global_sdk_db_error_cb_func)(const char *error_info, const void *user_data);
typedef void (*nim_global_upload_sdk_log_cb_func)(int rescode, const void *user_data);
#ifdef __cplusplus
}
#endif
#endif
