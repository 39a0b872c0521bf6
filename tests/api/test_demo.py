from __future__ import annotations

import asyncio

from gql_analytics.commands.demo import send_demo
from tests.support import NOW, GraphQLClient, ServerThread


async def test_the_demo_workload_fills_every_dashboard(
    server: ServerThread, client: GraphQLClient
) -> None:
    url = server.base_url + "/graphql"
    assert await asyncio.to_thread(send_demo, url, users=5, days=2, seed=1, now=NOW) == 0
    data = await client.data(
        """{
          dashboard { totalEvents totalMetricPoints metricNames }
          topEvents(range: {last: "7d"}) { name count }
          activeUsers(range: {last: "7d"}) { total }
          metric(name: "api_response_time", range: {last: "7d"}, groupByTag: "region") { count p95 groups { tagValue } }
          taskStats(range: {last: "7d"}) { created completed }
        }"""
    )
    assert data["dashboard"]["totalEvents"] > 0
    assert data["dashboard"]["metricNames"] == ["api_response_time"]
    assert data["topEvents"]
    assert data["activeUsers"]["total"] == 5
    assert data["metric"]["count"] == data["dashboard"]["totalMetricPoints"]
    assert data["metric"]["p95"] > 0
    assert {g["tagValue"] for g in data["metric"]["groups"]} == {"eu-west", "us-east", "ap-south"}
    assert data["taskStats"]["created"] > data["taskStats"]["completed"] > 0
