//! A Redis Cluster's nodes as one of its nodes reports them (`CLUSTER NODES`): the address each
//! announces, and its role. Nodes still joining (`handshake`) or without an address (`noaddr`)
//! are left out; a failed node stays in, so that its scrape reports it down.

use std::time::Duration;

/// How long connecting and `CLUSTER NODES` may take together.
const TIMEOUT: Duration = Duration::from_secs(3);

/// One node of a cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ClusterNode {
    /// `host:port`, as the node announces it to its peers and clients.
    pub(crate) address: String,
    /// `master` or `slave`, as the seed sees it now.
    pub(crate) role: &'static str,
}

/// The nodes a seed at `host:port` knows, itself among them.
pub(crate) async fn nodes(
    host: &str,
    port: u16,
    password: Option<&str>,
) -> Result<Vec<ClusterNode>, String> {
    let client = super::redis::client(host, port, password).map_err(|e| e.to_string())?;
    let answer = async {
        let mut connection = client.get_multiplexed_async_connection().await?;
        redis::cmd("CLUSTER")
            .arg("NODES")
            .query_async::<String>(&mut connection)
            .await
    };
    match tokio::time::timeout(TIMEOUT, answer).await {
        Err(_) => Err(format!("no answer in {} s", TIMEOUT.as_secs())),
        Ok(Err(e)) => Err(e.to_string()),
        Ok(Ok(text)) => Ok(parse(&text, host)),
    }
}

/// `CLUSTER NODES`' lines: `<id> <ip:port@cport[,hostname]> <flags> …`. The seed itself
/// (`myself`) may announce no IP yet; it is then the host it was reached at.
pub(crate) fn parse(text: &str, seed_host: &str) -> Vec<ClusterNode> {
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let (_, address, flags) = (fields.next()?, fields.next()?, fields.next()?);
            let flags: Vec<&str> = flags.split(',').collect();
            if flags.iter().any(|f| matches!(*f, "handshake" | "noaddr")) {
                return None;
            }
            let address = address.split(['@', ',']).next()?;
            let (ip, port) = address.rsplit_once(':')?;
            let ip = if ip.is_empty() && flags.contains(&"myself") {
                seed_host
            } else {
                ip
            };
            let role = if flags.contains(&"slave") {
                "slave"
            } else {
                "master"
            };
            (!ip.is_empty() && port.parse::<u16>().is_ok()).then(|| ClusterNode {
                address: format!("{ip}:{port}"),
                role,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_node_with_an_address_is_listed_with_its_role() {
        let text = "\
07c37 172.18.0.5:6379@16379,node-1 myself,master - 0 0 1 connected 0-5460
67ed2 172.18.0.6:6379@16379 master - 0 1 2 connected 5461-10922
292f8 172.18.0.7:6379@16379 master,fail - 0 1 3 disconnected 10923-16383
6ec23 172.18.0.8:6379@16379 slave 07c37 0 1 1 connected
824fe :0@0 handshake - 0 0 0 connected
e7d1e :6379@16379 noaddr,slave 292f8 0 1 3 disconnected
";
        let nodes = parse(text, "node-1");
        let addresses: Vec<(&str, &str)> =
            nodes.iter().map(|n| (n.address.as_str(), n.role)).collect();
        assert_eq!(
            addresses,
            [
                ("172.18.0.5:6379", "master"),
                ("172.18.0.6:6379", "master"),
                ("172.18.0.7:6379", "master"),
                ("172.18.0.8:6379", "slave"),
            ]
        );
        let alone = parse(
            "07c37 :6379@16379 myself,master - 0 0 0 connected\n",
            "seed",
        );
        assert_eq!(alone[0].address, "seed:6379");
    }
}
