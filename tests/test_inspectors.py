"""The inspector directory, departments and declared conflicts."""


from conftest import EXAMPLES, connect


def test_examples_import_with_departments_officers_and_conflicts(store):
    depts = store("departments", "list", "--json").json()
    assert {d["code"] for d in depts} >= {"SCJG", "WJ", "GA"}
    officers = store("inspectors", "list", "--json").json()
    assert len(officers) == 47
    assert all(isinstance(o["expertise"], list) for o in officers)
    conflicts = store("conflicts", "list", "--json").json()
    assert len(conflicts) == 8
    one = conflicts[0]
    shown = store("inspectors", "show", one["cert_no"], "--json").json()
    assert one["uscc"] in {c["uscc"] for c in shown["conflicts"]}


def test_unknown_department_is_named_and_nothing_written(cli, tmp_path, store_env):
    assert cli("init").code == 0
    assert cli("departments", "import", EXAMPLES / "departments.yaml").code == 0
    path = tmp_path / "officers.csv"
    path.write_text(
        "执法证号,姓名,所属部门,执法证有效期,业务专长,岗位管辖片区,状态\n"
        "44188200101,张三,SCJG,2028-12-31,食品安全;特种设备,连州镇,在岗\n"
        "44188200102,李四,XYZ,2028-12-31,药品,全市,在岗\n"
        "44188200103,王五,WJ,2028/13/01,卫生,全市,在岗\n",
        encoding="gb18030",
    )
    result = cli("inspectors", "import", path)
    assert result.code == 1
    assert "row 3, field department: unknown department code" in result.err
    assert "row 4, field cert_expires_on" in result.err
    with connect(store_env) as conn:
        assert conn.execute("SELECT COUNT(*) FROM inspector").fetchone()[0] == 0


def test_status_change_keeps_history(store, tmp_path):
    path = tmp_path / "change.csv"
    path.write_text(
        "cert_no,name,department,cert_expires_on,expertise,region,status\n"
        "44188201001,x,SCJG,2029-12-31,食品安全,连州镇,请假\n",
        encoding="utf-8",
    )
    before = store("inspectors", "show", "44188201001", "--json").json()
    result = store("inspectors", "import", path, "--json")
    assert result.code == 0, result.err
    after = store("inspectors", "show", "44188201001", "--json").json()
    assert after["status"] == "休假"
    fields = {h["field"]: (h["old_value"], h["new_value"]) for h in after["history"]}
    assert fields["status"] == (before["status"], "休假")


def test_conflict_with_unknown_officer_is_rejected(store, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("cert_no,uscc,reason\n99999999999,91350100M000100Y43,亲属\n", encoding="utf-8")
    result = store("conflicts", "import", path)
    assert result.code == 1
    assert "row 2, field cert_no: no officer with this certificate" in result.err


def test_department_file_problems_are_all_listed(cli, tmp_path):
    path = tmp_path / "d.yaml"
    path.write_text("departments:\n  - {code: scjg, name: 市场监管局}\n  - {code: SCJG, name: 重复}\n  - {code: '1X', name: 坏}\n", encoding="utf-8")
    assert cli("init").code == 0
    result = cli("departments", "import", path, "--json")
    assert result.code == 1
    problems = result.json()["problems"]
    assert [p["field"] for p in problems] == ["departments[1]", "departments[2]"]
