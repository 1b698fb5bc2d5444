"""The schema rebuilt from the cdktf provider packages (tests/infra/tfschema) says what the real
providers say about the resources we know, so a regression in the parser shows here first."""

from __future__ import annotations

import pytest

from tests.infra.tfschema import javascript, mirror
from tests.infra.tfschema.rebuild import read_schema_file, schema_file
from tests.infra.tools import missing


@pytest.fixture(scope="module")
def schemas() -> dict[str, dict]:
    """The rebuilt schemas by provider name (google, archive); built once, then cached."""
    try:
        wheels = mirror.pinned_wheels()
    except mirror.Missing as exc:
        missing(str(exc))
    documents = [read_schema_file(schema_file(wheel, mirror.CACHE)) for wheel in wheels]
    return {doc["source"].rsplit("/", 1)[-1]: doc for doc in documents}


def resource(schemas, name: str, kind: str = "resource_schemas") -> dict:
    return schemas["google"]["schema"][kind][name]["block"]


def test_the_packages_name_the_provider_versions_they_were_generated_from(schemas):
    assert schemas["google"]["source"] == "registry.terraform.io/hashicorp/google"
    assert schemas["google"]["version"] == "6.50.0"
    assert schemas["archive"]["version"] == "2.7.1"
    google = schemas["google"]["schema"]
    assert len(google["resource_schemas"]) > 1000 and len(google["data_source_schemas"]) > 300


def test_storage_bucket_arguments_blocks_and_computed_attributes(schemas):
    bucket = resource(schemas, "google_storage_bucket")
    attributes, blocks = bucket["attributes"], bucket["block_types"]
    assert attributes["name"] == {"type": "string", "description_kind": "plain", "required": True}
    assert attributes["location"]["required"]
    assert attributes["force_destroy"] == {"type": "bool", "description_kind": "plain",
                                           "optional": True}
    assert attributes["labels"]["type"] == ["map", "string"]
    for computed in ("self_link", "url", "effective_labels", "terraform_labels", "project_number"):
        assert attributes[computed]["computed"] and "optional" not in attributes[computed], computed
    assert "versioning" not in attributes
    versioning = blocks["versioning"]
    assert (versioning["nesting_mode"], versioning.get("max_items")) == ("list", 1)
    assert versioning["block"]["attributes"]["enabled"]["required"]
    rule = blocks["lifecycle_rule"]
    assert rule["nesting_mode"] == "list" and "max_items" not in rule
    action = rule["block"]["block_types"]["action"]
    assert (action["nesting_mode"], action["min_items"], action["max_items"]) == ("set", 1, 1)
    assert blocks["timeouts"]["nesting_mode"] == "single"
    assert blocks["soft_delete_policy"]["block"]["attributes"]["effective_time"]["computed"]


def test_cloud_tasks_queue_has_its_retry_config_block(schemas):
    queue = resource(schemas, "google_cloud_tasks_queue")
    retry = queue["block_types"]["retry_config"]
    assert (retry["nesting_mode"], retry.get("max_items")) == ("list", 1)
    assert retry["block"]["attributes"]["max_attempts"] == {
        "type": "number", "description_kind": "plain", "optional": True}
    limits = queue["block_types"]["rate_limits"]["block"]["attributes"]
    assert limits["max_burst_size"]["computed"]
    assert queue["attributes"]["location"]["required"]


def test_computed_lists_of_objects_are_attributes_with_object_types(schemas):
    conditions = resource(schemas, "google_cloud_run_v2_service")["attributes"]["conditions"]
    assert conditions["computed"]
    kind, (obj, members) = conditions["type"]
    assert (kind, obj) == ("list", "object")
    assert members["type"] == "string" and members["last_transition_time"] == "string"


def test_a_property_cdktf_renamed_keeps_its_terraform_name(schemas):
    trigger = resource(schemas, "google_cloudbuild_trigger")  # cdktf calls it buildAttribute
    assert "build" in trigger["block_types"] and "buildAttribute" not in trigger["block_types"]


def test_data_source_and_provider_configuration(schemas):
    project = resource(schemas, "google_project", "data_source_schemas")["attributes"]
    assert project["project_id"]["optional"] and project["number"]["computed"]
    provider = schemas["google"]["schema"]["provider"]["block"]["attributes"]
    assert provider["project"]["optional"] and provider["region"]["optional"]
    assert "alias" not in provider  # a meta-argument, not the provider's


def test_archive_file_data_source(schemas):
    archive = schemas["archive"]["schema"]["data_source_schemas"]["archive_file"]["block"]
    attributes = archive["attributes"]
    assert attributes["type"]["required"] and attributes["output_path"]["required"]
    assert attributes["output_md5"]["computed"]
    assert attributes["excludes"]["type"] == ["set", "string"]
    assert archive["block_types"]["source"]["nesting_mode"] == "set"


GENERATED = '''\
class FooBarOutputReference extends cdktf.ComplexObject {
    constructor(terraformResource, terraformAttribute) {
        super(terraformResource, terraformAttribute, false, 0);
        // one - computed: true, optional: false, required: false
        this._one = new cdktf.StringMap(this, "one");
        // two - computed: true, optional: false, required: false
        this._two = new FooBarTwoList(this, "two", true);
    }
    // three - computed: true, optional: false, required: false
    get three() {
        return cdktf.Fn.tolist(this.getListAttribute('three'));
    }
}
'''


def test_consecutive_computed_members_are_all_read():
    code = javascript.parse([GENERATED])
    one, two, three = code.computed["FooBarOutputReference"]
    assert (one.name, one.type) == ("one", ["map", "string"])
    assert (two.name, two.element, two.collection) == ("two", "FooBarTwoOutputReference", "set")
    assert (three.name, three.type) == ("three", ["set", "string"])


def test_code_of_an_unknown_shape_is_an_error_not_a_guess():
    with pytest.raises(javascript.SchemaError, match="unknown getter"):
        javascript.parse([GENERATED.replace("cdktf.Fn.tolist(this.getListAttribute('three'))",
                                            "this.getSomethingNew('three')")])
