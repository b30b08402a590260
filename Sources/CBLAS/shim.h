// OpenBLAS' CBLAS interface (pkg-config openblas supplies the include path).
#include <cblas.h>

// LAPACK's Cholesky solve (OpenBLAS ships LAPACK; Debian's openblas-dev has no lapack.h):
// solves A·X = B for a symmetric positive definite A (column-major; upper or lower triangle
// read by uplo). info > 0: A is not positive definite.
void dposv_(const char *uplo, const int *n, const int *nrhs, double *a, const int *lda, double *b,
            const int *ldb, int *info);
