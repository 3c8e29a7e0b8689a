package dev.lowbit.nn;

import dev.lowbit.numerics.ProductPlan.Site;
import dev.lowbit.unpack.Strategy;
import dev.lowbit.unpack.UnpackedProduct;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What IM-Unpack cost in a run, per layer and product: the multiply-adds of the original integer
 * GEMMs and of the b-bit GEMMs that replaced them (their quotient is the unpack ratio, spec §1.10),
 * and how often the chooser picked each strategy. Thread-safe; rows in the order of first use.
 */
public final class UnpackStats {

  private static final class Entry {
    long calls;
    long macs;
    long unpackedMacs;
    final long[] picks = new long[Strategy.values().length];
  }

  private final Map<String, Entry> entries = new LinkedHashMap<>();

  synchronized void record(Site site, UnpackedProduct u) {
    Entry e = entries.computeIfAbsent(site.layer() + "\u0000" + site.product().label(), k -> new Entry());
    e.calls++;
    e.macs += (long) u.n() * u.d() * u.m();
    e.unpackedMacs += (long) u.unpackedN() * u.unpackedD() * u.unpackedM();
    e.picks[u.strategy().ordinal()]++;
  }

  /** The overall unpack ratio: unpacked multiply-adds over original ones (1 when nothing ran). */
  public synchronized double ratio() {
    long macs = 0, unpacked = 0;
    for (Entry e : entries.values()) {
      macs += e.macs;
      unpacked += e.unpackedMacs;
    }
    return macs == 0 ? 1 : (double) unpacked / macs;
  }

  /** One row per layer and product: layer, product, calls, macs, unpacked_macs, ratio, and the picks per strategy. */
  public synchronized List<Map<String, Object>> rows() {
    List<Map<String, Object>> out = new ArrayList<>();
    for (Map.Entry<String, Entry> me : entries.entrySet()) {
      String[] key = me.getKey().split("\u0000", 2);
      Entry e = me.getValue();
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("layer", key[0]);
      m.put("product", key[1]);
      m.put("calls", e.calls);
      m.put("macs", e.macs);
      m.put("unpacked_macs", e.unpackedMacs);
      m.put("ratio", e.macs == 0 ? 1.0 : (double) e.unpackedMacs / e.macs);
      Map<String, Long> picks = new LinkedHashMap<>();
      for (Strategy s : Strategy.values()) picks.put(s.spec(), e.picks[s.ordinal()]);
      m.put("picks", picks);
      out.add(m);
    }
    return out;
  }
}
