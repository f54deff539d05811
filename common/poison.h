/* Unsafe string functions are not available in postern code. */
#ifndef POSTERN_POISON_H
#define POSTERN_POISON_H
#include <string.h>
#include <stdio.h>
#pragma GCC poison strcpy strcat sprintf vsprintf gets strncpy strtok
#endif
