# Sourced by the peer benchmark scripts: refuses to time PyTorch on Debian's reference BLAS.
# python3-torch works with either libblas.so.3 provider, but the reference one runs torch.mm about
# a hundred times slower than OpenBLAS, which would make every ratio against the peer meaningless.
peer_blas=$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || true)
case "$peer_blas" in
  *openblas*) ;;
  *)
    echo "error: libblas.so.3 is ${peer_blas:-missing}, not OpenBLAS: PyTorch would be timed on the reference BLAS;" \
      "install it with: apt-get install -y libopenblas0-pthread" >&2
    exit 2
    ;;
esac
