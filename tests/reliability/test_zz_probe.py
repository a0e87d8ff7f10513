import datetime, traceback
from pathlib import Path
from measures.importers import ImportRejected, values_import
from measures.models import Value
from django.db import transaction

H = "measure,area,period,value,numerator,denominator,note,source\n"
CASES = {
 "blank_lines": "\n\n\n",
 "ws_lines": "  \n\t\n",
 "lead_blank": "\n" + H + "t-assaults,force,2022-12,5,,,,\n",
 "case_header": " Measure , AREA ,Period,VALUE\nt-assaults,force,2022-12,5\n",
 "too_many": "measure,area,period,value\nt-assaults,force,2022-12,1,234\n",
 "blank_hdr_col": "measure,,area,period,value\nt-assaults,oops,force,2022-12,5\n",
 "serial": H + "t-assaults,force,44896,5,,,,\n",
 "slash": H + "t-assaults,force,2022/12,5,,,,\n",
 "dec22": H + "t-assaults,force,Dec-22,5,,,,\n",
 "thousands": H + 't-assaults,force,2022-12,"1,234",,,,\n',
 "comma_dec": H + 't-assaults,force,2022-12,"1,2",,,,\n',
 "space_thousands": H + "t-assaults,force,2022-12,1 234,,,,\n",
 "negzero": H + "t-assaults,force,2022-12,-0,,,,\n",
 "exp": H + "t-assaults,force,2022-12,1e3,,,,\n",
 "exp_big": H + "t-cash,force,2022-Q4,1.23457E+10,,,,\n",
 "nan": H + "t-assaults,force,2022-12,NaN,,,,\n",
 "snan": H + "t-assaults,force,2022-12,sNaN,,,,\n",
 "pct": H + "t-satisfied,force,2022-12,70.2%,,,,\n",
 "plus": H + "t-assaults,force,2022-12,+12,,,,\n",
 "at_value": H + "t-assaults,force,2022-12,@SUM(A1),,,,\n",
 "at_note": H + "t-assaults,force,2022-12,5,,,@SUM(A1:A3),\n",
 "dde_note": H + "t-assaults,force,2022-12,5,,,+cmd|' /C calc'!A0,\n",
 "minus_note": H + "t-assaults,force,2022-12,5,,,-2+3,\n",
 "eq_source": H + "t-assaults,force,2022-12,5,,,,=HYPERLINK(\"x\")\n",
 "huge_digits": H + "t-cash,force,2022-Q4,123456789012345678901234567890,,,,\n",
 "many_decimals": H + "t-satisfied,force,2022-12,70.123456789,,,,\n",
 "exp_overflow": H + "t-cash,force,2022-Q4,1e30,,,,\n",
 "mid_bom": H + "t-assaults,force,2022-11,5,,,,\n\ufeffmeasure,area,period,value,numerator,denominator,note,source\nt-assaults,force,2022-12,5,,,,\n",
 "bom_cell": H + "\ufefft-assaults,force,2022-12,5,,,,\n",
 "too_few": H + "t-assaults,force,2022-12\n",
 "frac_count": H + "t-assaults,force,2022-12,12.5,,,,\n",
 "dup_q4": H + "t-cash,force,2022-Q4,1,,,,\nt-cash,force,2022-10/2022-12,1,,,,\n",
 "dup_1m": H + "t-assaults,force,2022-12,1,,,,\nt-assaults,force,2022-12/2022-12,1,,,,\n",
 "multiline": H + 't-assaults,force,2022-11,5,,,"a\nb",\nt-assaults,force,2022-12,x,,,,\n',
 "year_monthly": H + "t-assaults,force,2022,5,,,,\n",
 "uscore": H + "t-assaults,force,2022-12,1_000,,,,\n",
}
BYTES = {
 "nul_early": (H + "t-assaults,force,2022-12,5,,,a\x00b,\n").encode(),
 "nul_late_note": (H + "".join(f"t-assaults,force,{y}-{m:02d},5,,,,\n" for y in range(2000,2020) for m in range(1,13)) + "t-assaults,force,2022-12,5,,,a\x00b,\n").encode(),
 "nul_late_value": (H + "".join(f"t-assaults,force,{y}-{m:02d},5,,,,\n" for y in range(2000,2020) for m in range(1,13)) + "t-assaults,force,2022-12,5\x00,,,,\n").encode(),
 "cp1252": (H + "t-assaults,force,2022-11,5,,,,\r\nt-cash,force,2022-Q4,5,,,,£ seized\r\n").encode("cp1252"),
 "utf16be": (H + "t-assaults,force,2022-12,5,,,,\n").encode("utf-16-be"),
 "utf8sig_pound": ("\ufeff" + H + "t-cash,force,2022-Q4,5,,,café £,\n").encode("utf-8"),
 "cr_only_latin1": (H.replace("\n","\r") + "t-assaults,force,2022-11,5,,,,\rt-assaults,force,2022-12,5,,,é,\r").encode("latin-1"),
}

def test_probe(small_plan, tmp_path):
    for name, text in list(CASES.items()) + list(BYTES.items()):
        p = tmp_path / f"{name}.csv"
        if isinstance(text, bytes): p.write_bytes(text)
        else: p.write_text(text, encoding="utf-8")
        try:
            with transaction.atomic():
                s = values_import(path=p)
                vals = [(v.measure.code, v.start, v.end, v.value, v.note) for v in Value.objects.all()]
                transaction.set_rollback(True)
            print(f"{name}: ACCEPTED {s} {vals}")
        except ImportRejected as e:
            print(f"{name}: REJECTED {[ (x.line, x.message[:150]) for x in e.errors]}")
        except Exception as e:
            print(f"{name}: CRASH {type(e).__name__}: {str(e)[:200]}")
