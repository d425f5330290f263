/* What computing weights at query time would cost the search kernel's pass (issue 16's
 * size target): the pass of search/_kernels.c reduced to its accumulation and harvest
 * (no candidates, no floors), over the hybrid passes dump.py recorded, in variants:
 *
 *   0  stored float32 weights for both runs (what the kernel does)
 *   1  both weights from tf and per-passage values gathered by passage (16 bytes a passage)
 *   4  as 1, the per-passage values prefetched 24 postings ahead
 *   3  the arithmetic of 1 on sequential data (no gather): what the division costs
 *   6  In_expC2 from a (tf, length) table with the length stored per posting (one byte),
 *      TF-IDF stored: no gather
 *   5  0 with the accumulators prefetched 16 postings ahead
 *   7  0 with the touched list replaced by a scan of the block's marks
 *
 * The weights of 1-6 are shaped like the real ones but not equal to them: this measures
 * time, not scores. Build and run (after python dump.py INDEX QUERIES DIR):
 *
 *   gcc -O2 -ffp-contract=off -o qtw query_time_weights.c -lm && cd DIR && for v in 0 1 4 3 6 5 7; do ../qtw $v; done
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BLOCK (1 << 14)
#define AHEAD 32 /* postings read past a list's end by the prefetching variants */

static void *load(const char *name, size_t *len, size_t pad)
{
    FILE *f = fopen(name, "rb");
    if (!f) {
        perror(name);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = calloc(*len + pad, 1);
    if (!b || fread(b, 1, *len, f) != *len) {
        perror(name);
        exit(1);
    }
    fclose(f);
    return b;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

typedef struct {
    double norm, inv;
} PerPassage;

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: qtw VARIANT\n");
        return 2;
    }
    int variant = atoi(argv[1]);
    size_t n;
    int64_t *indptr = load("postings_indptr.raw", &n, 0);
    int32_t *post = load("postings_passages.raw", &n, AHEAD * sizeof(int32_t));
    uint8_t *tf = load("postings_tf.raw", &n, 0);
    uint8_t *dl = load("postings_dl.raw", &n, 0);
    float *w1 = load("dfr_weights.raw", &n, 0), *w2 = load("tfidf_weights.raw", &n, 0);
    int32_t *plen = load("passage_length.raw", &n, 0);
    int64_t n_passages = (int64_t)(n / sizeof(int32_t));
    double *idf = load("tfidf_idf.raw", &n, 0);
    char *q = load("queries.bin", &n, 0), *qend = q + n;

    PerPassage *pp = malloc(n_passages * sizeof *pp);
    for (int64_t i = 0; i < n_passages; i++) {
        pp[i].norm = log1p(4.0 / (plen[i] / 19.7 + 1e-9));
        pp[i].inv = 1.0 / sqrt(plen[i] + 1.0);
    }
    double tfw[256], *table = malloc(256 * 256 * sizeof(double));
    for (int i = 0; i < 256; i++) tfw[i] = i ? 1.0 + log(i) : 0.0;
    for (int a = 0; a < 256; a++)
        for (int b = 0; b < 256; b++) {
            double tfn = a * log1p(4.0 / ((b + 1) / 19.7));
            table[a * 256 + b] = tfn / (tfn + 1.0);
        }
    double *acc = calloc(2 * BLOCK, sizeof(double));
    uint8_t *mark = calloc(BLOCK, 1);
    int64_t *touched = malloc(BLOCK * sizeof(int64_t));

    double best = 1e9, check = 0.0;
    int passes = 0;
    for (int round = 0; round < 5; round++) {
        double t0 = now();
        passes = 0;
        for (char *c = q; c < qend; passes++) {
            int64_t m = *(int64_t *)c;
            c += 8;
            int64_t *terms = (int64_t *)c;
            c += 8 * m;
            double *c1 = (double *)c;
            c += 8 * m;
            double *c2 = (double *)c;
            c += 8 * m;
            int64_t pos[64], end[64];
            for (int i = 0; i < m && i < 64; i++) {
                pos[i] = indptr[terms[i]];
                end[i] = indptr[terms[i] + 1];
            }
            for (int64_t base = 0; base < n_passages; base += BLOCK) {
                int64_t limit = base + BLOCK, t = 0;
                for (int i = 0; i < m && i < 64; i++) {
                    int64_t p = pos[i], e = end[i];
                    float f1 = (float)c1[i], f2 = (float)c2[i];
                    double k1 = c1[i] * 3.0, k2 = c2[i] * idf[terms[i]];
                    switch (variant) {
                    case 0:
                        for (; p < e; p++) {
                            int64_t r = post[p];
                            if (r >= limit) break;
                            r -= base;
                            touched[t] = r;
                            t += 1 - mark[r];
                            mark[r] = 1;
                            acc[2 * r] += (double)(f1 * w1[p]);
                            acc[2 * r + 1] += (double)(f2 * w2[p]);
                        }
                        break;
                    case 7:
                        for (; p < e; p++) {
                            int64_t r = post[p];
                            if (r >= limit) break;
                            r -= base;
                            mark[r] = 1;
                            acc[2 * r] += (double)(f1 * w1[p]);
                            acc[2 * r + 1] += (double)(f2 * w2[p]);
                        }
                        break;
                    case 5:
                        for (; p < e; p++) {
                            int64_t r = post[p];
                            if (r >= limit) break;
                            __builtin_prefetch(&acc[2 * (post[p + 16] - base)], 1);
                            r -= base;
                            touched[t] = r;
                            t += 1 - mark[r];
                            mark[r] = 1;
                            acc[2 * r] += (double)(f1 * w1[p]);
                            acc[2 * r + 1] += (double)(f2 * w2[p]);
                        }
                        break;
                    case 1:
                    case 4:
                        for (; p < e; p++) {
                            int64_t r = post[p];
                            if (r >= limit) break;
                            if (variant == 4) __builtin_prefetch(&pp[post[p + 24]]);
                            const PerPassage *x = &pp[r];
                            r -= base;
                            touched[t] = r;
                            t += 1 - mark[r];
                            mark[r] = 1;
                            double tfn = tf[p] * x->norm;
                            acc[2 * r] += (double)(float)(k1 * tfn / (tfn + 1.0));
                            acc[2 * r + 1] += (double)(float)(k2 * tfw[tf[p]] * x->inv);
                        }
                        break;
                    case 3:
                        for (; p < e; p++) {
                            int64_t r = post[p];
                            if (r >= limit) break;
                            r -= base;
                            touched[t] = r;
                            t += 1 - mark[r];
                            mark[r] = 1;
                            double tfn = tf[p] * (double)w1[p];
                            acc[2 * r] += (double)(float)(k1 * tfn / (tfn + 1.0));
                            acc[2 * r + 1] += (double)(float)(k2 * tfw[tf[p]] * w2[p]);
                        }
                        break;
                    case 6:
                        for (; p < e; p++) {
                            int64_t r = post[p];
                            if (r >= limit) break;
                            r -= base;
                            touched[t] = r;
                            t += 1 - mark[r];
                            mark[r] = 1;
                            acc[2 * r] += (double)(float)(k1 * table[tf[p] * 256 + dl[p]]);
                            acc[2 * r + 1] += (double)(f2 * w2[p]);
                        }
                        break;
                    default:
                        fprintf(stderr, "no variant %d\n", variant);
                        return 2;
                    }
                    pos[i] = p;
                }
                if (variant != 7) {
                    for (int64_t j = 0; j < t; j++) {
                        int64_t r = touched[j];
                        check += acc[2 * r] + acc[2 * r + 1];
                        acc[2 * r] = acc[2 * r + 1] = 0.0;
                        mark[r] = 0;
                    }
                } else {
                    uint64_t *words = (uint64_t *)mark;
                    for (int64_t w = 0; w < BLOCK / 8; w++) {
                        uint64_t x = words[w];
                        if (!x) continue;
                        words[w] = 0;
                        while (x) {
                            int b = __builtin_ctzll(x) >> 3;
                            int64_t r = w * 8 + b;
                            x &= ~(0xffull << (b * 8));
                            check += acc[2 * r] + acc[2 * r + 1];
                            acc[2 * r] = acc[2 * r + 1] = 0.0;
                        }
                    }
                }
            }
        }
        double seconds = (now() - t0) / passes;
        if (seconds < best) best = seconds;
    }
    printf("variant %d: %.3f ms a pass, best of 5 rounds over %d passes (check %g)\n", variant, best * 1e3, passes,
           check);
    return 0;
}
